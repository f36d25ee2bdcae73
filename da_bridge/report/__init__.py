"""Static HTML reports of a study: summary, plots, drawn architectures, every trial."""

from da_bridge.report._study import dashboard_command, study_space, study_task
from da_bridge.report._write import write_report

__all__ = ["dashboard_command", "study_space", "study_task", "write_report"]
