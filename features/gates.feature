Feature: A gate opens only when its phase is done
  The lab coordination moves an initiative on only when every required checklist item of
  its phase is done, the named roles have signed off and enough sectors take part.

  Background:
    Given a "kosi-lab" initiative "Fahrradgaragen im Quartier"

  Scenario: A gate stays shut while items are open
    When the coordinator fires "start_co_creation"
    Then it is refused because "item_open" for "challenge_defined"
    And it is refused because "approval_missing" for "administration"
    And the initiative is in phase "initiation"

  Scenario: A complete initiation moves on to co-creation
    Given every required item of the phase is ticked with evidence
    And participants from "administration, civil_society, science" take part
    And "administration" has signed off "start_co_creation"
    When the coordinator fires "start_co_creation"
    Then the initiative is in phase "co_creation"
    And the checklist of the phase is empty

  Scenario: Rework needs a reason
    Given the initiative has reached phase "prototyping"
    When the coordinator fires "rework"
    Then it is refused because "reason_required"
    When the coordinator fires "rework" because "the site does not fit"
    Then the initiative is in phase "co_creation"
    And this is visit 2 of the phase
