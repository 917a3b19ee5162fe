"""Scenarios (placeholder)."""
import streamlit as st
st.write("Scenarios")
