"""Where the tests find the checkout's own files (deployment configuration, dashboards)."""

from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[2]
DEPLOY = REPOSITORY / "deploy"
