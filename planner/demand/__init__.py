"""The demand surface: weighted points where people are and crime happens, built from layers."""
