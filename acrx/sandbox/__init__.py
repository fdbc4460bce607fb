"""The moto-style local Alibaba Cloud and cluster. Imports nothing from the rest of acrx."""
