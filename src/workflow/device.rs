//! Where to compute: the choice the command line's `--device` and the app's Device field make.

use candle_core::Device;

/// `--device`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    /// CUDA when this binary was built with it and a GPU answers, else the CPU.
    #[default]
    Auto,
    Cpu,
    Cuda,
}

impl DeviceArg {
    /// The choices this build offers: `cuda` only when it was built with `--features cuda`.
    pub fn available() -> &'static [DeviceArg] {
        if candle_core::utils::cuda_is_available() {
            &[DeviceArg::Auto, DeviceArg::Cpu, DeviceArg::Cuda]
        } else {
            &[DeviceArg::Auto, DeviceArg::Cpu]
        }
    }

    /// The name people read: "Auto", "CPU", "CUDA".
    pub fn label(self) -> &'static str {
        match self {
            DeviceArg::Auto => "Auto",
            DeviceArg::Cpu => "CPU",
            DeviceArg::Cuda => "CUDA",
        }
    }

    /// The device, and a line saying which it is (and, for `auto`, why). Errors: CUDA asked
    /// for in a build without the `cuda` feature or on a machine without an NVIDIA GPU (the
    /// message says how to get one).
    pub fn resolve(self) -> anyhow::Result<(Device, String)> {
        match self {
            DeviceArg::Cpu => Ok((Device::Cpu, "CPU".into())),
            DeviceArg::Cuda => {
                let device = Device::new_cuda(0).map_err(|e| {
                    anyhow::anyhow!(
                        "cannot use CUDA ({}): that needs a SceneLab built with `--features cuda` (see the README's Building with CUDA) and a machine whose NVIDIA driver answers; otherwise choose the CPU",
                        first_line(&e)
                    )
                })?;
                Ok((device, "CUDA GPU 0".into()))
            }
            DeviceArg::Auto if !candle_core::utils::cuda_is_available() => Ok((
                Device::Cpu,
                "CPU (auto: this build has no CUDA; see the README to build with --features cuda)"
                    .into(),
            )),
            DeviceArg::Auto => match Device::new_cuda(0) {
                Ok(device) => Ok((device, "CUDA GPU 0 (auto)".into())),
                Err(e) => Ok((
                    Device::Cpu,
                    format!("CPU (auto: no CUDA GPU answered: {})", first_line(&e)),
                )),
            },
        }
    }

    /// [`DeviceArg::resolve`], saying on stderr which device it took.
    pub fn open(self) -> anyhow::Result<Device> {
        let (device, line) = self.resolve()?;
        eprintln!("device: {line}");
        Ok(device)
    }
}

/// An error's first line: candle appends a backtrace to some.
fn first_line(e: &candle_core::Error) -> String {
    e.to_string().lines().next().unwrap_or_default().to_string()
}
