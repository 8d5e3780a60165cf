"""What the tests share: builders, fakes, real servers and readers, imported by conftest files and tests."""
