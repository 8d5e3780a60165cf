"""The admin console's domain: who may see and do what (scope.py), and the operations it offers."""
