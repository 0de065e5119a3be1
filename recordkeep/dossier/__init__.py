"""The 一户式 dossier: parties, cases with their stages and decisions, officers and devices,
and the read views of a case and of a party. Every write is a journaled event."""
