"""Administration+: secure messaging between aidants and instructeurs of public bodies."""

import os

# Piccolo finds its engine through this module path, whichever directory the process runs from.
os.environ.setdefault("PICCOLO_CONF", "app.piccolo_conf")
