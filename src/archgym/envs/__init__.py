"""archgym's environments, one file each; registered in :mod:`archgym`."""
