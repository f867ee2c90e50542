"""The clinic server behind `imbalance serve`; `cds_hooks` is its CDS Hooks 2.0 service."""
