"""Diacritics-insensitive folding, as used by every search."""
import re
import unicodedata

import pytest
from hypothesis import given, settings, strategies as st

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


def _fold_by_definition(*parts):
    """The folding as the module's docstring defines it, one character at a time."""
    text = " ".join(p for p in parts if p).translate(str.maketrans({"đ": "d", "Đ": "d"}))
    stripped = "".join(ch for ch in unicodedata.normalize("NFD", text) if not unicodedata.combining(ch))
    return re.sub(r"\s+", " ", stripped).strip().casefold()


_VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ"


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(
    st.none(),
    st.text(alphabet=_VIETNAMESE + _VIETNAMESE.upper() + " \t\n\u00a0\u2003“”—…0123456789-/%_", max_size=80),
    st.text(max_size=40),  # any Unicode
    st.text(alphabet=st.one_of(st.characters(categories=["Mn", "Mc", "Me", "Zs", "Ll"]), st.just("\u034f")),
            min_size=1, max_size=20),  # other scripts' marks, U+034F (not combining), every kind of space
), max_size=4))
def test_fold_is_its_definition(parts):
    assert fold(*parts) == _fold_by_definition(*parts)
