"""Operating running cases: migration to another definition version, repairs, incidents."""
