"""The Qt window: a thin layer of item models, views and workers over `imbalance_studio.core`."""
