"""The api and world fixtures live in tests/conftest.py, shared by every test folder."""
