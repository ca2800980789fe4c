"""Streamlit pages (thin UI). Shared widgets and figures live in pages.common."""
