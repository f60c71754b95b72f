// audit's own metric: appointments by current state, read from the status projection when scraped.
import { Gauge, type Registry, STATES } from '@booking/kit';

export function appointmentsByState(registry: Registry, counts: () => Promise<Record<string, number>>): void {
  new Gauge({
    name: 'booking_appointments_by_state',
    help: 'Appointments by current state (the status projection)',
    labelNames: ['state'],
    registers: [registry],
    async collect() {
      const c = await counts().catch(() => ({}) as Record<string, number>);
      for (const s of STATES) this.set({ state: s }, c[s] ?? 0);
    },
  });
}
