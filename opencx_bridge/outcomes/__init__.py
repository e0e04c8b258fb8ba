"""What the AI achieved: the overview's figures, the report, the charts and the export.
Read-only: every figure is one SQL condition on the session's stamped moments
(engine/milestones.py, store/transcript.py), the same one the inbox filters by."""
