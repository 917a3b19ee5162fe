"""Summary (placeholder)."""
import streamlit as st
st.write("Summary")
