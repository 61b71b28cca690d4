-- What every end-to-end script in the real Neovim starts with (tests/editors/neovim.sh runs them): `check`,
-- whose failure names the script and quits with status 1, and podsec's shipped config (editors/neovim) on
-- the binary under test (PODSEC_BIN), the repository being PODSEC_REPO; and code lenses through the API of
-- the Neovim that runs it (0.12 replaced refresh() with enable(), and get() gives {client_id, lens} items).
--   local check, lenses = dofile(vim.env.PODSEC_REPO .. '/tests/editors/neovim_harness.lua')('neovim e2e')

return function(name)
  local function fail(message)
    io.stderr:write(name .. ': FAIL: ' .. message .. '\n')
    vim.cmd('cquit 1')
  end

  local function check(condition, message)
    if not condition then fail(message) end
  end

  local repo = assert(vim.env.PODSEC_REPO, 'PODSEC_REPO')
  local binary = assert(vim.env.PODSEC_BIN, 'PODSEC_BIN')
  vim.opt.runtimepath:prepend(repo .. '/editors/neovim')
  vim.lsp.config('podsec', { cmd = { binary, 'lsp' } })
  vim.lsp.enable('podsec')

  local lenses = {}
  local since_0_12 = vim.fn.has('nvim-0.12') == 1
  -- Asks for the buffer's lenses (and, in 0.12, keeps them current).
  function lenses.enable(buf)
    if since_0_12 then
      vim.lsp.codelens.enable(true, { bufnr = buf })
    else
      vim.lsp.codelens.refresh({ bufnr = buf })
    end
  end
  -- The buffer's lenses, as LSP CodeLens objects.
  function lenses.get(buf)
    if not since_0_12 then return vim.lsp.codelens.get(buf) end
    return vim.tbl_map(function(item) return item.lens end, vim.lsp.codelens.get({ bufnr = buf }))
  end
  return check, lenses
end
