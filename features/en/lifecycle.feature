Feature: Rework, hold, archive and racing coordinators
  A failed test sends the work back to co-creation for a fresh visit; an initiative may be put
  on hold and resumed, and archived from any phase. When two coordinators act on the same
  version at the same time, exactly one of them wins.

  Background:
    Given the workflow "workflows/kosi-lab.yaml"
    And these people:
      | name            | roles          |
      | Jana Becker     | coordinator    |
      | Sven Richter    | coordinator    |
      | Thomas Krüger   | administration |
      | Aylin Demir     | civil_society  |
      | Lena Vogt       | science        |
      | Markus Hoffmann | business       |
    And "Jana Becker" has started the initiative "Fahrradgaragen im Quartier"

  Scenario: Rework needs a reason and starts a fresh visit of co-creation
    Given the initiative has reached the phase "prototyping"
    When "Jana Becker" fires "rework"
    Then it is refused because "reason_required"
    When "Jana Becker" fires "rework" because "Site and price do not match demand"
    Then the initiative is in the phase "co_creation"
    And this is visit 2 of the phase
    And no item of the phase is done
    And the step "start_prototyping" has no sign-offs
    And the phase "co_creation" was visited 2 times

  Scenario: While on hold, nothing moves but resuming, notes and archiving
    When "Jana Becker" puts the initiative on hold because "Waiting for a citywide reusable-cup decision"
    Then the initiative is on hold
    When "Jana Becker" ticks "core_team_named"
    Then it is refused because "on_hold"
    When "Aylin Demir" notes "The council decides in May"
    And "Jana Becker" resumes the initiative
    Then the initiative is not on hold
    When "Jana Becker" ticks "core_team_named"
    Then the item "core_team_named" is done

  Scenario: Only the lab coordination puts an initiative on hold, and only with a reason
    When "Thomas Krüger" puts the initiative on hold because "Budget freeze"
    Then it is refused because "role_missing"
    When "Jana Becker" puts the initiative on hold
    Then it is refused because "reason_required"
    When "Jana Becker" resumes the initiative
    Then it is refused because "not_on_hold"

  Scenario Outline: An initiative is archived from any phase, with a reason
    Given the initiative has reached the phase "<phase>"
    When "Jana Becker" fires "archive"
    Then it is refused because "reason_required"
    When "Jana Becker" fires "archive" because "The lab ended the initiative"
    Then the initiative is in the phase "archived"

    Examples:
      | phase         |
      | initiation    |
      | co_creation   |
      | prototyping   |
      | consolidation |

  Scenario: An initiative on hold may still be archived, and then nothing changes any more
    Given "Jana Becker" has put the initiative on hold because "No follow-up funding"
    When "Jana Becker" fires "archive" because "No follow-up funding"
    Then the initiative is in the phase "archived"
    When "Jana Becker" ticks "core_team_named"
    Then it is refused because "ended"

  Scenario: Two coordinators fire at the same time: one wins, the other gets a conflict
    Given everything "start_co_creation" needs is done
    When "Jana Becker" and "Sven Richter" both fire "start_co_creation" at the same time
    Then one of them wins and the other gets a conflict
    And the initiative is in the phase "co_creation"
    And the history has 12 events
