"""The staff's web consoles: the advisor's day and rooms, the live call-button alerts, the
advisor's task-time log, the expert's day and the pilot's monthly exports."""
