"""Paths of the real demo data that tests import."""
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "fixtures"
P001 = FIXTURES / "dicom" / "P001"
NORMAL001 = FIXTURES / "dicom" / "normal001"
DEMO_CLINICAL = FIXTURES / "clinical" / "demo_clinical.csv"
