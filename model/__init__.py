"""Digit Studio's inference core: preprocessing, the network, the predictor, model files.

It never imports `training` or streamlit, so the app, the CLIs and a web service
can all share it.
"""

from model.predictor import Predictor, load_predictor
from model.settings import SETTINGS, Settings

__all__ = ["SETTINGS", "Predictor", "Settings", "load_predictor"]
