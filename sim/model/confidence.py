"""The confidence levels a plan can be set for: the chance of hitting the goal the SLA's
volumes should give. One list for the app's pickers and the share links, one default for the
app, the command line and the library."""

DEFAULT_CONFIDENCE = 0.8
#: The levels offered by the app (a share link's ``q`` must be one of them).
CONFIDENCES = (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
