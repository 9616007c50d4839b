"""Diacritics-insensitive folding, as used by every search."""
import pytest

from pakn.text import fold, like_pattern


@pytest.mark.parametrize("text, folded", [
    ("Xây dựng", "xay dung"),
    ("ĐẤT ĐAI", "dat dai"),
    ("  Thủ   tục\nhành chính ", "thu tuc hanh chinh"),
    ("Nghị định 20/2008/NĐ-CP", "nghi dinh 20/2008/nd-cp"),
    ("", ""),
])
def test_fold_drops_diacritics_case_and_extra_spaces(text, folded):
    assert fold(text) == folded


def test_fold_joins_parts_and_skips_missing_ones():
    assert fold("Phản ánh", None, "", "Kiến nghị") == "phan anh kien nghi"


def test_like_pattern_escapes_wildcards():
    assert like_pattern("100%_Đúng") == "%100\\%\\_dung%"
