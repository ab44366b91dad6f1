import HardwareIR
