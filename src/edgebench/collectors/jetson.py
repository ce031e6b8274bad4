"""NVIDIA Jetson power rails from the INA3221 monitor (hwmon on JetPack ≥ 5, iio on JetPack ≤ 4).

``VDD_IN`` (Xavier NX, Orin) or ``POM_5V_IN`` (Nano) is the module's total input and the primary
figure; the other rails are parts of it (never added to it). Without a total rail the primary
figure is the rails' sum, labelled as such (it excludes the carrier board). GPU/EMC frequencies
come from devfreq.
"""

from __future__ import annotations

from pathlib import Path

from edgebench.energy.source import Channel, SensorUnavailable, Source, read_float
from edgebench.platform._fs import read_text, sorted_glob, under
from edgebench.platform.sensors import ina3221_dirs

TOTAL_RAILS = ("VDD_IN", "POM_5V_IN")
RAILS_SUM = "rails sum"
_RAILS_SUM_NOTE = "sum of the INA3221 rails: excludes carrier-board power (no VDD_IN/POM_5V_IN rail)"


class JetsonCollector(Source):
    name = "jetson"

    def discover(self) -> list[Channel]:
        hwmons, iios = ina3221_dirs(self.root)
        # key → (volts file, amps file) for hwmon, or (power file, None) for iio (mW)
        self._rails: dict[str, tuple[Path, Path | None]] = {}
        channels: list[Channel] = []
        for hwmon in hwmons:
            channels += self._hwmon_rails(hwmon)
        for iio in iios:
            channels += self._iio_rails(iio)
        if not channels:
            raise SensorUnavailable("no INA3221 power monitor (not a Jetson)")
        self._sum_rails = not any(ch.primary for ch in channels)
        if self._sum_rails:
            channels.append(
                Channel(
                    f"ina3221:{RAILS_SUM}", "ina3221", RAILS_SUM, "power", "total", primary=True, note=_RAILS_SUM_NOTE
                )
            )
        self._freqs = {
            f"devfreq:{d.name}": d / "cur_freq"
            for d in sorted_glob(under(self.root, "/sys/class/devfreq"), "*")
            if self.can_read(d / "cur_freq")
        }
        channels += [Channel(key, "devfreq", key.split(":", 1)[1], "frequency") for key in self._freqs]
        return channels

    def _hwmon_rails(self, hwmon: Path) -> list[Channel]:
        interval_ms = read_float(hwmon / "update_interval")
        channels = []
        for label_file in sorted_glob(hwmon, "in*_label"):
            label = read_text(label_file) or ""
            if not label or label == "NC" or "sum of shunt" in label.lower():
                continue
            n = label_file.name[2:].split("_")[0]
            volts, amps = hwmon / f"in{n}_input", hwmon / f"curr{n}_input"
            if not (self.can_read(volts) and self.can_read(amps)):
                continue
            self._rails[f"ina3221:{label}"] = (volts, amps)
            channels.append(self._rail(label, interval_ms / 1000 if interval_ms else None))
        return channels

    def _iio_rails(self, iio: Path) -> list[Channel]:
        channels = []
        for name_file in sorted_glob(iio, "rail_name_*"):
            label = read_text(name_file) or ""
            power = iio / f"in_power{name_file.name.rsplit('_', 1)[-1]}_input"
            if label and label != "NC" and self.can_read(power):
                self._rails[f"ina3221:{label}"] = (power, None)
                channels.append(self._rail(label, None))
        return channels

    def _rail(self, label: str, interval_s: float | None) -> Channel:
        total = label in TOTAL_RAILS
        # 1 mV × 1 mA steps at board voltages (~5–20 V): ~0.02 W per step is the honest resolution
        return Channel(
            f"ina3221:{label}",
            "ina3221",
            label,
            "power",
            "total" if total else "component",
            resolution=0.02,
            update_interval_s=interval_s,
            primary=total,
        )

    def read(self) -> dict[str, float]:
        values: dict[str, float] = {}
        for key, (first, second) in self._rails.items():
            if second is None:
                watts = read_float(first, 1e-3)
            else:
                mv, ma = read_float(first), read_float(second)
                watts = mv * ma / 1e6 if mv is not None and ma is not None else None
            if watts is not None:
                values[key] = watts
        if self._sum_rails:
            values[f"ina3221:{RAILS_SUM}"] = sum(values.values())
        for key, path in self._freqs.items():
            hz = read_float(path)
            if hz is not None:
                values[key] = hz
        return values
