Feature: Checklist items: evidence, optional items, waivers and who may tick
  Each item of a phase names the roles that may tick it and whether it needs evidence.
  Optional items never hold a gate shut; some items may be waived by the roles the workflow
  names. Reopening an item voids the sign-offs of the gate it belongs to.

  Background:
    Given the workflow "workflows/kosi-lab.yaml"
    And these people:
      | name            | roles          |
      | Jana Becker     | coordinator    |
      | Thomas Krüger   | administration |
      | Aylin Demir     | civil_society  |
      | Lena Vogt       | science        |
      | Markus Hoffmann | business       |
    And "Jana Becker" has started the initiative "Fahrradgaragen im Quartier"

  Scenario: An item that needs evidence is refused without it
    When "Thomas Krüger" ticks "mandate_secured"
    Then it is refused because "evidence_required" for "mandate_secured"
    When "Thomas Krüger" ticks "mandate_secured" with the evidence "Decision of the district council"
    Then the item "mandate_secured" is done

  Scenario: Progress counts the required items of the phase
    When "Jana Becker" ticks "core_team_named"
    And "Jana Becker" ticks "Challenge statement agreed" with the evidence "Citizens' budget proposal"
    Then the checklist shows:
      | item              | status |
      | core_team_named   | done   |
      | challenge_defined | done   |
      | mandate_secured   | open   |
    And the progress is 33 percent

  Scenario: Optional items do not hold a gate shut
    Given the initiative has reached the phase "prototyping"
    And everything "consolidate" needs is done
    Then the item "operating_model" is open
    And the item "learnings_shared" is open
    And the progress is 100 percent
    And the step "consolidate" is possible

  Scenario: A waived item counts as done, and only the roles the workflow names may waive it
    When "Jana Becker" waives "resources_clarified" because "The lab's own rooms are used"
    Then it is refused because "role_missing"
    When "Thomas Krüger" waives "resources_clarified" because "The lab's own rooms are used"
    Then the item "resources_clarified" is waived
    And the progress is 17 percent

  Scenario: An item the workflow lets nobody waive must be done
    When "Thomas Krüger" waives "mandate_secured" because "Not needed here"
    Then it is refused because "item_not_waivable" for "mandate_secured"
    And the item "mandate_secured" is open

  Scenario Outline: Only the roles an item names may tick it
    Given the initiative has reached the phase "<phase>"
    When "<person>" ticks "<item>" with the evidence "Minutes"
    Then it is refused because "role_missing"
    And the item "<item>" is open

    Examples:
      | phase         | item              | person          |
      | initiation    | mandate_secured   | Aylin Demir     |
      | initiation    | actor_mapping     | Markus Hoffmann |
      | co_creation   | test_plan         | Jana Becker     |
      | prototyping   | permits_cleared   | Lena Vogt       |
      | consolidation | formal_decision   | Jana Becker     |

  Scenario Outline: Every item of a phase is ticked by a role it names
    Given the initiative has reached the phase "<phase>"
    When "<person>" ticks "<item>" with the evidence "Minutes"
    Then the item "<item>" is done

    Examples:
      | phase         | item                | person          |
      | initiation    | challenge_defined   | Thomas Krüger   |
      | initiation    | actor_mapping       | Lena Vogt       |
      | initiation    | kickoff_dialogue    | Aylin Demir     |
      | initiation    | resources_clarified | Jana Becker     |
      | co_creation   | round_table_held    | Jana Becker     |
      | co_creation   | needs_documented    | Aylin Demir     |
      | co_creation   | ideas_prioritised   | Jana Becker     |
      | co_creation   | concept_agreed      | Aylin Demir     |
      | co_creation   | commitments_made    | Markus Hoffmann |
      | co_creation   | test_plan           | Lena Vogt       |
      | prototyping   | prototype_set_up    | Markus Hoffmann |
      | prototyping   | field_test_run      | Aylin Demir     |
      | prototyping   | evaluation_done     | Lena Vogt       |
      | prototyping   | operating_model     | Markus Hoffmann |
      | prototyping   | learnings_shared    | Jana Becker     |
      | consolidation | carrier_named       | Thomas Krüger   |
      | consolidation | funding_secured     | Markus Hoffmann |
      | consolidation | handover_done       | Jana Becker     |
      | consolidation | results_published   | Lena Vogt       |
      | consolidation | impact_indicators   | Lena Vogt       |

  Scenario: Reopening an item voids the sign-offs of its gate
    Given everything "start_co_creation" needs is done
    And the step "start_co_creation" has the sign-offs of "administration"
    When "Jana Becker" reopens "core_team_named" because "The core team has changed"
    Then the item "core_team_named" is open
    And the step "start_co_creation" has no sign-offs
    And the step "start_co_creation" is blocked by exactly:
      | code             | subject         |
      | item_open        | core_team_named |
      | approval_missing | administration  |

  Scenario: Reopening needs a reason
    Given "Jana Becker" has ticked "core_team_named"
    When "Jana Becker" reopens "core_team_named"
    Then it is refused because "reason_required"
    And the item "core_team_named" is done

  Scenario: An auditor reads everything and changes nothing
    Given "Renate Albers" with the role "auditor"
    When "Renate Albers" ticks "core_team_named"
    Then it is refused because "role_missing"
    When "Renate Albers" fires "archive" because "Audit finding"
    Then it is refused because "role_missing"
    And the initiative is in the phase "initiation"
