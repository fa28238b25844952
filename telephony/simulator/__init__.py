"""A local Twilio stand-in for tests and demos: `advisor telephony simulate`."""

from telephony.simulator.scenario import Pickup, Scenario
from telephony.simulator.twilio_sim import SimCall, TwilioSimulator

__all__ = ["Pickup", "Scenario", "SimCall", "TwilioSimulator"]
