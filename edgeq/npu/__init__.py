"""Arm Ethos-U NPUs: models compiled by Arm's Vela, placement, memory and Vela's performance estimates."""
