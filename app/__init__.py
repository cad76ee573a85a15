"""Administration+: secure messaging between aidants and instructeurs of public bodies."""

# Importing the settings sets PICCOLO_CONF, which Piccolo reads before anything else.
from app import settings as _settings  # noqa: F401
