"""Workload modules, one per app; each registers its workloads on import."""
