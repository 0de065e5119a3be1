"""Packages of a case or a party that others can check without recordkeep: BagIt bags
(``bagit``), the offline HTML dossier (``html``), and checking a bag's journal lines against
the store (``bagcheck``)."""

from .bagit import ExportResult, export_bag, plan, safe_name, staged

__all__ = ["ExportResult", "export_bag", "plan", "safe_name", "staged"]
