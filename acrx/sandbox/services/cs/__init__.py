"""Sandbox CS (Container Service for Kubernetes, ACK), API version 2015-12-15, ROA.

`models.Backend.seed_cluster` seeds clusters; `models.find_cluster(world, id)` finds one in
any account or region; addon lifecycles are in `models_addons`, the catalog in `addons`.
"""
