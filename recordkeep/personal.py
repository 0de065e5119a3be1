"""What in an event or a record is personal, and how it is shown (个人信息保护法).

Events written since the vault hold masks only. Events from before it (``party.added`` with a
plain ``id_number`` or ``phone``) are kept as they are (the chain forbids rewriting them) and
masked in every output: ``shown_data`` gives the data as it may be shown. Records whose doc
type is an identity document (``[pii] identity_documents`` in recordkeep.toml) get an icon
in the HTML dossier, never a readable thumbnail.
"""

from __future__ import annotations

from . import errors
from .i18n import _
from .ids import mask_id_number, mask_phone

PLAIN_FIELDS = {"id_number": ("id_number_mask", mask_id_number), "phone": ("phone_mask", mask_phone)}

#: doc types whose scans show an identity document: an icon, not a thumbnail
IDENTITY_DOCUMENTS = ("身份证", "身份证复印件", "居民身份证", "临时身份证", "户口簿", "户口本", "护照",
                      "港澳台居民居住证", "港澳居民来往内地通行证", "台湾居民来往大陆通行证", "驾驶证",
                      "营业执照", "营业执照副本", "营业执照复印件", "法定代表人身份证明")


def holds_plain(event_type: str, data: dict) -> bool:
    """Whether an event's data holds a personal number in plain (written before the vault)."""
    return event_type == "party.added" and any(data.get(field) for field in PLAIN_FIELDS)


def shown_data(event_type: str, data: dict) -> dict:
    """The event's data as it may be shown: plain numbers replaced by their masks."""
    if not holds_plain(event_type, data):
        return data
    shown = {k: v for k, v in data.items() if k not in PLAIN_FIELDS}
    for field, (masked, mask) in PLAIN_FIELDS.items():
        if data.get(field):
            shown[masked] = mask(str(data[field]))
    return shown


def shows_identity(doc_type: str | None, identity: tuple[str, ...]) -> bool:
    """Whether a doc type names an identity document: it contains one of ``identity``
    (身份证正反面 as well as 身份证), as clerks word them."""
    return bool(doc_type) and any(name in doc_type for name in identity)


def identity_documents(section: dict) -> tuple[str, ...]:
    """``[pii] identity_documents`` when set (a list of doc types), else the built-in list."""
    given = section.get("identity_documents", IDENTITY_DOCUMENTS)
    if not isinstance(given, list | tuple) or not all(isinstance(x, str) for x in given):
        raise errors.ConfigError(_("[pii] identity_documents must be a list of doc types, e.g. "
                                   "[\"身份证复印件\", \"营业执照副本\"]"))
    return tuple(given)
