"""acrx: cross-account image pulls from ACR Enterprise Edition to ACK."""

__version__ = "0.1.0"
