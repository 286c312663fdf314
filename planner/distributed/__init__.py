"""Plans beyond one machine, on a Dask cluster.

Tiles with halos, per-tile coverage on the workers, and the distributed greedy that
chooses exactly the single-machine greedy's sites.
"""

from planner.distributed.engine import ClusterOptions, cluster_client
from planner.distributed.plan import DistributedInputs, plan_distributed

__all__ = ["ClusterOptions", "DistributedInputs", "cluster_client", "plan_distributed"]
