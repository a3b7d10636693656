"""Emission factors per mode of transport, each with its source, dataset version and year.

Every value is in kg CO2e per passenger-km, vehicle construction included, as ADEME publishes them in
**Impact CO2** (https://impactco2.fr/outils/transport), the public comparator of ADEME (Agence de la transition
écologique). Impact CO2 names **Base Empreinte® (ADEME)** as the source of its transport figures, and for cars
ADEME's "Modélisation de l'empreinte carbone de la voiture – 2025". The values were read from the comparator's
published data, file `src/data/categories/deplacement.ts` of github.com/incubateur-ademe/impactco2 at commit
2d1548032d817c29c8076b284a3d3d27ab3081f4 (2026-06-01): each mode's value is the sum of its `ecv` parts
(5 = construction, 6 = fuel / energy). Non-car values there have been unchanged since the data update of
2025-10-16 (commit 65b6e312); car values come from the 2025 car model.

* A car's figure is per vehicle-km with its driver alone (Impact CO2's basis); carpooling divides it by the
  people in the car (Impact CO2: value / (passengers + 1)); `carpool` is a car shared by two.
* `home` is a member who would otherwise have worked from home: no trip, nothing avoided.
* A site may give its own figure for a mode (`report.commute.factors`); with a source it is printed with it,
  without one the report says "figure given by the site".

Pure data; no I/O. docs/report.md reproduces the table.
"""

from __future__ import annotations

from dataclasses import dataclass

IMPACT_CO2 = "ADEME, Impact CO2 (Base Empreinte®)"
IMPACT_CO2_DATASET = "impactco2.fr transport data, commit 2d15480 of 2026-06-01"
IMPACT_CO2_YEAR = 2026
CAR_MODEL = "ADEME, Impact CO2 (Modélisation de l'empreinte carbone de la voiture – 2025)"
CAR_MODEL_YEAR = 2025


@dataclass(frozen=True)
class Factor:
    """An emission factor: kg CO2e per passenger-km, and where it comes from (None: given without a source)."""

    kg_per_km: float
    source: str | None = None
    dataset: str | None = None
    year: int | None = None

    def __post_init__(self) -> None:
        if not 0 <= self.kg_per_km <= 5:
            raise ValueError(f"an emission factor of {self.kg_per_km} kg CO2e per km is not plausible (0 to 5)")

    @property
    def sourced(self) -> bool:
        """Whether the figure names its source."""
        return self.source is not None


def _impact(construction: float, energy: float = 0.0) -> Factor:
    return Factor(construction + energy, IMPACT_CO2, IMPACT_CO2_DATASET, IMPACT_CO2_YEAR)


def _car(energy: float, construction: float, people: int = 1) -> Factor:
    return Factor((energy + construction) / people, CAR_MODEL, IMPACT_CO2_DATASET, CAR_MODEL_YEAR)


# Impact CO2 slugs in comments; (construction, energy) as in the data file.
FACTORS: dict[str, Factor] = {
    "car": _car(0.1105577600556303, 0.03169565217391306),  # voiturethermique (its default thermal car)
    "car_petrol": _car(0.1380123725556303, 0.03169565217391306),  # voiture-compact-essence
    "car_diesel": _car(0.1105577600556303, 0.03169565217391306),  # voiture-compact-diesel
    "car_hybrid": _car(0.1134194350556303, 0.03315991847826087),  # voiturehybride
    "car_electric": _car(0.01208836005563031, 0.05527690217391306),  # voitureelectrique
    "carpool": _car(0.1105577600556303, 0.03169565217391306, people=2),  # voiturethermique, 1 passenger
    "bus": _impact(0.00892, 0.1135),  # busthermique
    "bus_electric": _impact(0.0122, 0.0095),  # buselectrique
    "coach": _impact(0.00442, 0.03314),  # autocar
    "train_ter": _impact(0.00479, 0.0229),  # ter
    "train_intercites": _impact(0.00318, 0.0058),  # intercites
    "train_tgv": _impact(0.00063, 0.0023),  # tgv
    "rer": _impact(0.00318, 0.0066),  # rer (RER, Transilien)
    "tram": _impact(0.00048, 0.0038),  # tramway
    "metro": _impact(0.00024, 0.0042),  # metro
    "bike": _impact(0.00017),  # velo
    "ebike": _impact(0.00872, 0.00223),  # veloelectrique
    "escooter": _impact(0.0229, 0.002),  # trottinette (electric kick scooter)
    "scooter": _impact(0.0159, 0.0604),  # scooter (thermal)
    "scooter_electric": _impact(0.0386, 0.0207),  # scooterelectrique
    "motorbike": _impact(0.0747, 0.14),  # moto
    "walk": Factor(0.0, IMPACT_CO2, IMPACT_CO2_DATASET, IMPACT_CO2_YEAR),  # marche
    "home": Factor(0.0, None),  # no trip: worked from home
}
"""The factor of every known mode."""

NO_TRIP = frozenset({"home"})
"""Modes that make no trip: their distance is not asked for and nothing is avoided."""


def factor(mode: str, overrides: dict[str, Factor] | None = None) -> Factor:
    """The factor of a mode: the site's own when it gives one, else the table's. KeyError for an unknown mode."""
    if overrides and mode in overrides:
        return overrides[mode]
    return FACTORS[mode]
