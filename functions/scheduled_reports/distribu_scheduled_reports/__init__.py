"""The scheduled-reports function: runs due report schedules and emails their files."""
