//! Where to compute: the choice the command line's `--device` and the app's Device field make.

use candle_core::Device;

/// `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    Cpu,
    Cuda,
}

impl DeviceArg {
    /// The candle device. Errors: CUDA asked for in a build without the `cuda` feature or on a
    /// machine without an NVIDIA GPU (the message says how to get one).
    pub fn open(self) -> anyhow::Result<Device> {
        match self {
            DeviceArg::Cpu => Ok(Device::Cpu),
            DeviceArg::Cuda => Device::new_cuda(0).map_err(|e| {
                anyhow::anyhow!(
                    "cannot use CUDA ({e}); build SceneLab with `--features cuda` on a machine with an NVIDIA GPU, or pass --device cpu"
                )
            }),
        }
    }
}
