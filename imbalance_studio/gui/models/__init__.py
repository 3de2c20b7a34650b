"""Qt item models that adapt core value objects (`Dataset`, `Problem`) for the views."""
