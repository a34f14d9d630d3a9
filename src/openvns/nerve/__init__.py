"""The nerve layer: which vagal fibres fire for a given electrode, waveform and current."""
