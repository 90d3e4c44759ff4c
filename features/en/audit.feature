Feature: What an auditor sees in the history
  Every accepted command is an event in the initiative's history, with who did it and why; a
  refused command leaves no trace. The events are hash-chained.

  Background:
    Given the workflow "workflows/kosi-lab.yaml"
    And these people:
      | name            | roles          |
      | Jana Becker     | coordinator    |
      | Thomas Krüger   | administration |
      | Aylin Demir     | civil_society  |
      | Lena Vogt       | science        |
      | Markus Hoffmann | business       |
      | Renate Albers   | auditor        |
    And "Jana Becker" has started the initiative "Fahrradgaragen im Quartier"

  Scenario: Every command is in the history with the person who gave it
    Given "Thomas Krüger" has ticked "mandate_secured" with the evidence "Decision of the district council"
    And "Jana Becker" has ticked "core_team_named"
    When "Jana Becker" reopens "core_team_named" because "The core team has changed"
    And "Aylin Demir" notes "Residents ask for a second site"
    Then the history contains, in this order:
      | event             | by            | item            | reason                    |
      | InitiativeCreated | Jana Becker   |                 |                           |
      | ItemTicked        | Thomas Krüger | mandate_secured |                           |
      | ItemTicked        | Jana Becker   | core_team_named |                           |
      | ItemReopened      | Jana Becker   | core_team_named | The core team has changed |
      | NoteAdded         | Aylin Demir   |                 |                           |
    And the history has 5 events
    And the hash chain of the history is intact

  Scenario: A refused command leaves no trace
    When "Jana Becker" fires "start_co_creation"
    Then it is refused because "item_open"
    And the history has 1 event

  Scenario: Rework is recorded with its reason, and the phase visits show it
    Given the initiative has reached the phase "prototyping"
    When "Jana Becker" fires "rework" because "Low occupancy at the first site"
    Then the history contains, in this order:
      | event        | by          | trigger           | target      | reason                          |
      | PhaseChanged | Jana Becker | start_co_creation | co_creation |                                 |
      | PhaseChanged | Jana Becker | start_prototyping | prototyping |                                 |
      | PhaseChanged | Jana Becker | rework            | co_creation | Low occupancy at the first site |
    And the phase "co_creation" was visited 2 times
    And the phase "prototyping" was visited 1 time

  Scenario: Reopening records which sign-offs it voided
    Given everything "start_co_creation" needs is done
    When "Jana Becker" reopens "core_team_named" because "The core team has changed"
    Then the history contains, in this order:
      | event        | by            | trigger           | item            | invalidated_approvals |
      | GateApproved | Thomas Krüger | start_co_creation |                 |                       |
      | ItemReopened | Jana Becker   |                   | core_team_named | start_co_creation     |
