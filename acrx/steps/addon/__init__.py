"""The credential helper addon step (`cs.addon.<name>`) and the RRSA order trap on its pod."""

from acrx.steps.addon.step import AddonStep, addon_address, addon_name  # noqa: F401
