"""What several pages share: the cached predictor, the sidebar, plotly figure builders."""
