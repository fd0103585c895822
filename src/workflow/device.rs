//! Where to compute: the choice the command line's `--device` and the app's Device field make.

use candle_core::Device;

/// `--device`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    Cpu,
    Cuda,
}

impl DeviceArg {
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
