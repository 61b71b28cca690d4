-- End-to-end test of podsec in a real headless Neovim (>= 0.11), run by tests/editors/neovim.sh:
-- open a multi-document YAML file with non-ASCII text, wait for podsec's diagnostics, check their codes and
-- positions, apply a quick fix through the code action request, and check the buffer text; then exempt the
-- last finding with a comment (plain text: Neovim 0.11 takes no snippet edits) and write its reason.

local check = dofile(vim.env.PODSEC_REPO .. '/tests/editors/neovim_harness.lua')('neovim e2e')
local file = assert(vim.env.PODSEC_FILE, 'PODSEC_FILE')

vim.cmd.edit(file)
local buf = vim.api.nvim_get_current_buf()
check(vim.bo[buf].filetype == 'yaml', 'filetype is ' .. vim.bo[buf].filetype)

-- The checks' findings; the API server's refusal of the first Pod (`allowPrivilegeEscalation: false` beside
-- `privileged: true`) is checked on its own below.
local function podsec_diagnostics()
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(buf)) do
    if d.source == 'podsec' and d.code ~= 'invalid-object' then table.insert(out, d) end
  end
  table.sort(out, function(a, b) return a.lnum < b.lnum end)
  return out
end

check(vim.wait(20000, function() return #podsec_diagnostics() >= 2 end, 50), 'no podsec diagnostics within 20 s')
local client = vim.lsp.get_clients({ bufnr = buf, name = 'podsec' })[1]
check(client ~= nil, 'podsec is not attached')
print('podsec attached, position encoding ' .. client.offset_encoding)

local diagnostics = podsec_diagnostics()
check(#diagnostics == 2, 'expected 2 diagnostics, got ' .. #diagnostics)
local refusals = {}
for _, d in ipairs(vim.diagnostic.get(buf)) do
  if d.source == 'podsec' and d.code == 'invalid-object' then table.insert(refusals, d) end
end
check(#refusals == 1 and refusals[1].lnum == 9 and refusals[1].severity == vim.diagnostic.severity.ERROR,
  'expected the API server\'s refusal on line 10: ' .. vim.inspect(refusals))

-- 1. `privileged: true` on line 10, after multi-byte text on the same line: columns are byte offsets in Neovim.
local privileged = diagnostics[1]
local line10 = vim.api.nvim_buf_get_lines(buf, 9, 10, true)[1]
local start = line10:find('privileged: true', 1, true) - 1
check(privileged.code == 'privileged', 'first code ' .. tostring(privileged.code))
check(privileged.lnum == 9 and privileged.col == start and privileged.end_col == start + #'privileged: true',
  string.format('privileged at %d:%d-%d, expected 9:%d-%d', privileged.lnum, privileged.col, privileged.end_col, start, start + 16))
check(privileged.severity == vim.diagnostic.severity.ERROR, 'severity')
check(privileged.message == 'container "ünï" must not set securityContext.privileged=true', privileged.message)

-- 2. The second document's container lacks allowPrivilegeEscalation: reported on its `name: app`.
local escalation = diagnostics[2]
check(escalation.code == 'allowPrivilegeEscalation', 'second code ' .. tostring(escalation.code))
local line20 = vim.api.nvim_buf_get_lines(buf, 19, 20, true)[1]
local name_col = line20:find('name: app', 1, true) - 1
check(escalation.lnum == 19 and escalation.col == name_col, string.format('escalation at %d:%d', escalation.lnum, escalation.col))
print(string.format('diagnostics: privileged at %d:%d, allowPrivilegeEscalation at %d:%d', privileged.lnum, privileged.col, escalation.lnum, escalation.col))

-- 3. The quick fix for it, through the protocol, applied as Neovim applies workspace edits.
local lsp_diagnostic = escalation.user_data.lsp
local response = client:request_sync('textDocument/codeAction', {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  range = lsp_diagnostic.range,
  context = { diagnostics = { lsp_diagnostic }, only = { 'quickfix' } },
}, 10000, buf)
check(response and response.result, 'no code actions: ' .. vim.inspect(response))
local action
for _, candidate in ipairs(response.result) do
  if candidate.isPreferred then action = candidate end
end
check(action ~= nil, 'no preferred action in ' .. vim.inspect(response.result))
check(action.title == 'Set allowPrivilegeEscalation: false on container "app"', action.title)
vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)

local lines = vim.api.nvim_buf_get_lines(buf, 19, -1, true)
local expected = {
  '      - name: app  # ß',
  '        image: x',
  '        securityContext:',
  '          capabilities: {drop: [ALL]}',
  '          allowPrivilegeEscalation: false',
}
check(vim.deep_equal(lines, expected), 'buffer after the fix:\n' .. table.concat(lines, '\n'))

-- 4. The server re-analyses the edited buffer: only the privileged finding is left.
check(vim.wait(20000, function() return #podsec_diagnostics() == 1 end, 50), 'diagnostics after the fix: ' .. #podsec_diagnostics())

-- 5. Exempt it with a comment. Neovim 0.11 does not take snippet edits (no snippetEditSupport in its client
-- capabilities), so the server sends the plain text; it is appended to the finding's line.
local workspace_edit = client.capabilities.workspace.workspaceEdit
check(workspace_edit.snippetEditSupport == nil, 'Neovim says it takes snippet edits: ' .. vim.inspect(workspace_edit))
local remaining = podsec_diagnostics()[1].user_data.lsp
response = client:request_sync('textDocument/codeAction', {
  textDocument = { uri = vim.uri_from_bufnr(buf) },
  range = remaining.range,
  context = { diagnostics = { remaining }, only = { 'quickfix' } },
}, 10000, buf)
check(response and response.result, 'no code actions: ' .. vim.inspect(response))
action = nil
for _, candidate in ipairs(response.result) do
  if candidate.title == 'Exempt this finding from privileged with a comment (not deployed)' then action = candidate end
end
check(action ~= nil, 'no comment exemption in ' .. vim.inspect(response.result))
local edits = action.edit.documentChanges[1].edits
check(#edits == 1 and edits[1].newText == '  # podsec: exempt privileged -- TODO: reason' and edits[1].snippet == nil,
  'the comment edit: ' .. vim.inspect(edits))
vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding)
local line10_after = vim.api.nvim_buf_get_lines(buf, 9, 10, true)[1]
check(line10_after == line10 .. '  # podsec: exempt privileged -- TODO: reason', 'line 10 after the exemption: ' .. line10_after)
-- Without snippet edits the cursor reaches the reason through the action's command: the server asks
-- Neovim to show the reason (window/showDocument), as the code action menu runs it after the edit.
check(action.command and action.command.command == 'podsec.showLocation', 'no command to the reason: ' .. vim.inspect(action))
vim.api.nvim_win_set_cursor(0, { 1, 0 })
client:exec_cmd(action.command, { bufnr = buf })
local function on_the_reason()
  local cursor = vim.api.nvim_win_get_cursor(0)
  return cursor[1] == 10 and line10_after:sub(cursor[2] + 1, cursor[2] + #'TODO: reason') == 'TODO: reason'
end
check(vim.wait(10000, on_the_reason, 20), 'the cursor is not on the reason: ' .. vim.inspect(vim.api.nvim_win_get_cursor(0)))
print('the cursor is on the reason at ' .. table.concat(vim.api.nvim_win_get_cursor(0), ':'))

-- 6. The finding is gone; the placeholder reason is a warning at the reason, until one is written.
local function only_the_placeholder()
  local left = podsec_diagnostics()
  return #left == 1 and left[1].code == 'invalid-exemption' and left[1].severity == vim.diagnostic.severity.WARN
end
check(vim.wait(20000, only_the_placeholder, 50), 'diagnostics after the exemption: ' .. vim.inspect(podsec_diagnostics()))
local todo = podsec_diagnostics()[1]
check(line10_after:sub(todo.col + 1, todo.end_col) == 'TODO: reason', 'the warning is at ' .. todo.col .. '-' .. todo.end_col)
vim.api.nvim_buf_set_text(buf, 9, todo.col, 9, todo.end_col, { 'the node agent needs it' })
check(vim.wait(20000, function() return #podsec_diagnostics() == 0 end, 50), 'diagnostics with a reason: ' .. vim.inspect(podsec_diagnostics()))
print('comment exemption: ' .. vim.api.nvim_buf_get_lines(buf, 9, 10, true)[1]:match('# podsec:.*'))
print('neovim e2e: OK (' .. tostring(vim.version()):match('^[%d.]+') .. ')')
vim.cmd('qa!')
