"""The forwarding document (văn bản chuyển xử lý) of a forwarded case."""
from __future__ import annotations


def attach_forwarding_document(case, actor) -> None:
    """Generate the forwarding document once the documents module is available (branch ``files``)."""
    return None


def document_refs(case_ids: list[int]) -> dict[int, str]:
    return {}
