/**
 * Microsoft.Support tickets in the ARM emulator, through the real Support SDK: one ticket by name,
 * the subscription's tickets in pages, a missing ticket, a caller who may not read tickets, and every
 * exchange valid against the 2024-04-01 document (oav), which can also fail.
 */
import { startArmEmulator, type ArmEmulator } from '../../../sim/arm';
import { all, rawRequest, SUBSCRIPTION, SUPPORT_API_VERSION, supportClient } from './emulator-clients';

const MACHINE_ID = `/subscriptions/${SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.HybridCompute/machines/node-1`;
const ticketsPath = `/subscriptions/${SUBSCRIPTION}/providers/Microsoft.Support/supportTickets`;

describe('ARM emulator: Microsoft.Support tickets', () => {
  let emulator: ArmEmulator;

  beforeEach(async () => {
    emulator = await startArmEmulator({
      machines: [{ subscriptionId: SUBSCRIPTION, resourceGroup: 'rg', name: 'node-1' }],
      supportTickets: [
        {
          subscriptionId: SUBSCRIPTION,
          name: 'case-2401',
          status: 'Closed',
          title: 'WinRM listener gone after patching',
          createdDate: '2024-01-10T09:00:00Z',
        },
      ],
    });
    emulator.addSupportTicket(SUBSCRIPTION, {
      name: 'case-2409',
      status: 'Open',
      title: 'Arc agent disconnects every night',
      severity: 'critical',
      supportTicketId: '240915010000123',
      resourceId: MACHINE_ID,
      createdDate: '2024-09-15T08:30:00Z',
    });
    emulator.addSupportTicket(SUBSCRIPTION, {
      name: 'case-2410',
      status: 'Open',
      title: 'Slow logons',
      createdDate: '2024-10-01T12:00:00Z',
    });
  });

  afterEach(async () => {
    await emulator.close();
  });

  it('returns a ticket by name with its status, number and resource', async () => {
    const ticket = await supportClient(emulator).supportTickets.get('CASE-2409');
    expect(ticket).toMatchObject({
      id: `${ticketsPath}/case-2409`,
      name: 'case-2409',
      type: 'Microsoft.Support/supportTickets',
      supportTicketId: '240915010000123',
      title: 'Arc agent disconnects every night',
      status: 'Open',
      severity: 'critical',
      contactDetails: { primaryEmailAddress: 'owner@contoso.example' },
    });
    expect(ticket.createdDate?.toISOString()).toBe('2024-09-15T08:30:00.000Z');
    const raw = await rawRequest(emulator, 'GET', `${ticketsPath}/case-2409?api-version=${SUPPORT_API_VERSION}`);
    expect(raw.body.properties.technicalTicketDetails).toEqual({ resourceId: MACHINE_ID });
    expect(await emulator.validateTraffic()).toEqual([]);
  });

  it('lists newest first, in pages of $top through nextLink, and filters on status', async () => {
    const client = supportClient(emulator);
    expect((await all(client.supportTickets.list())).map((ticket) => ticket.name)).toEqual(['case-2410', 'case-2409', 'case-2401']);
    expect((await all(client.supportTickets.list({ top: 2 }))).map((ticket) => ticket.name)).toEqual([
      'case-2410',
      'case-2409',
      'case-2401',
    ]);
    const firstPage = await rawRequest(emulator, 'GET', `${ticketsPath}?api-version=${SUPPORT_API_VERSION}&$top=2`);
    expect(firstPage.body.value).toHaveLength(2);
    expect(firstPage.body.nextLink).toMatch(
      /^https:\/\/127\.0\.0\.1:\d+\/subscriptions\/.+\/supportTickets\?api-version=2024-04-01&%24top=2&%24skiptoken=2$/,
    );

    const open = await all(client.supportTickets.list({ filter: "status eq 'Open'" }));
    expect(open.map((ticket) => ticket.name)).toEqual(['case-2410', 'case-2409']);
    emulator.setSupportTicketStatus(SUBSCRIPTION, 'case-2409', 'Closed');
    const stillOpen = await all(client.supportTickets.list({ filter: "status eq 'Open' and createdDate ge 2024-01-01T00:00:00Z" }));
    expect(stillOpen.map((ticket) => ticket.name)).toEqual(['case-2410']);
    expect(await emulator.validateTraffic()).toEqual([]);
  });

  it('answers 404 for a missing ticket and 400 for a filter it cannot apply', async () => {
    const client = supportClient(emulator);
    await expect(client.supportTickets.get('case-0000')).rejects.toMatchObject({
      statusCode: 404,
      code: 'ResourceNotFound',
      message: expect.stringContaining("'case-0000'"),
    });
    await expect(all(client.supportTickets.list({ filter: "serviceId eq 'x'" }))).rejects.toMatchObject({
      statusCode: 400,
      message: expect.stringContaining("$filter clause 'serviceId eq 'x''"),
    });
    await expect(supportClient(emulator, '99999999-2222-3333-4444-555555555555').supportTickets.get('case-2409')).rejects.toMatchObject({
      statusCode: 404,
      code: 'SubscriptionNotFound',
    });
    expect(await emulator.validateTraffic()).toEqual([]);
  });

  it('answers 403 AuthorizationFailed, naming the caller and the action, where reading is denied', async () => {
    const client = supportClient(emulator);
    emulator.setSupportTicketReadAccess(SUBSCRIPTION, false);
    await expect(client.supportTickets.get('case-2409')).rejects.toMatchObject({
      statusCode: 403,
      code: 'AuthorizationFailed',
      message: expect.stringMatching(
        /^The client 'owner@contoso\.example' with object id '[0-9a-f-]{36}' does not have authorization to perform action 'Microsoft\.Support\/supportTickets\/read' over scope '\/subscriptions\/.+\/supportTickets\/case-2409'/,
      ),
    });
    // Denied even for a ticket that does not exist: the role check comes first.
    await expect(client.supportTickets.get('case-0000')).rejects.toMatchObject({ statusCode: 403 });
    await expect(all(client.supportTickets.list())).rejects.toMatchObject({ statusCode: 403, code: 'AuthorizationFailed' });
    emulator.setSupportTicketReadAccess(SUBSCRIPTION, true);
    expect((await client.supportTickets.get('case-2409')).status).toBe('Open');
    expect(await emulator.validateTraffic()).toEqual([]);
  });

  it('oav reports a response that breaks the document', async () => {
    await rawRequest(emulator, 'GET', `${ticketsPath}/case-2409?api-version=${SUPPORT_API_VERSION}`);
    const body = emulator.traffic[0]!.responseBody as { properties: Record<string, unknown> };
    body.properties.status = 7;
    delete body.properties.title;
    const problems = await emulator.validateTraffic();
    expect(problems).toEqual(
      expect.arrayContaining([
        expect.stringMatching(
          /case-2409\?api-version=2024-04-01 -> 200: response INVALID_TYPE at \$\.properties\.status: Expected type string/,
        ),
        expect.stringMatching(/-> 200: response OBJECT_MISSING_REQUIRED_PROPERTY at .*title/),
      ]),
    );
    expect(problems).toHaveLength(2);
  });
});
