"""Packages of a case or a party that others can check without recordkeep: BagIt bags
(``bagit``, arranged by ``arrangement``), the offline HTML dossier (``html``), and checking a
bag by itself and against the store (``bagcheck``, reading it through ``bagfiles``;
``completeness``)."""

from .arrangement import safe_name
from .bagit import ExportResult, export_bag, plan, staged

__all__ = ["ExportResult", "export_bag", "plan", "safe_name", "staged"]
