"""Use-cases shared by the CLI and the GUI; long ones take progress and stop callables."""
