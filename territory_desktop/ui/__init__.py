"""Everything Qt: main window, map canvas, panels, dialogs, undo commands, workers."""
