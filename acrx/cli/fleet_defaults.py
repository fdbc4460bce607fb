"""The fleet's pool size, apart from acrx.cli.fleet_flow so that the CLI's options can name it
without importing the fleet's machinery at every start.

32 clusters at once (issue 16): a no-change plan of 100 clusters at 50 ms per call took 6.94x the
one-cluster plan with 8, 3.64x with 32 (bench/fleet.py). Planning waits on the cloud, not on this
machine, and the per-account, per-API token buckets (acrx.cloud.ratelimit) keep every account
under its QPS limits however many clusters run, so a larger pool is safe where the buckets bind;
the reads of all clusters share one bounded read pool (acrx.steps.prefetch). Peak memory at 100
clusters stayed under 200 MB.
"""

DEFAULT_PARALLELISM = 32
